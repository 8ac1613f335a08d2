"""What a domain asks of the servers that send to it, as findings: DANE (TLSA records
against the certificate its MX host sent) and MTA-STS (its policy against its MX names).
The TLS report shows these sections."""

from __future__ import annotations

from smtptui.engine.dane import Tlsa, TlsaMatch, match_tlsa, tlsa_for, tlsa_name, tlsa_records
from smtptui.engine.mta_sts import (
    POLICY_PATH,
    fetch_policy,
    mx_allowed,
    parse_policy,
    policy_host,
    sts_name,
    sts_record,
)
from smtptui.engine.mx import DNS_TIMEOUT
from smtptui.engine.tls import CertificateInfo
from smtptui.session.eml import find_file
from smtptui.session.findings import Finding, Level, Section

WHY = {
    "dane": "DANE (RFC 7672) lets a domain publish, in DNSSEC-signed DNS, which certificate "
    "or key its mail server uses. Senders that check it (Postfix, Exim, Microsoft 365 among "
    "them) then insist on TLS with that certificate, so no one in the path can strip "
    "STARTTLS or pass off a certificate of their own.",
    "no-dane": "Without TLSA records senders use TLS when it is offered but take any "
    "certificate, so someone in the path can strip STARTTLS or show their own certificate. "
    "DANE needs DNSSEC on the MX host's zone.",
    "lookup": "What senders see is unknown: a sender that cannot get a secure answer defers "
    "the mail if the zone is signed, or goes on without DANE if it is not.",
    "unauthenticated": "DANE is only as good as DNSSEC: a TLSA answer that was not validated "
    "could be forged, so senders ignore it. Either the zone is not signed or the resolver "
    "asked does not validate (ask one that does; its word is only as safe as the path to it).",
    "authenticated": "The resolver validated the answer with DNSSEC (it set the AD bit), as "
    "senders that check DANE require.",
    "given": "These records were given, not looked up: the check says whether they would "
    "match, not what senders see in DNS.",
    "match": "Senders that check DANE accept this certificate: a usable record matches it.",
    "other": "A record that matches nothing is harmless while another one matches; during "
    "a key change the next key's record is published beside the current one.",
    "unusable": "Senders skip this record. If every record is unusable they still insist "
    "on TLS, but check no certificate.",
    "mismatch": "Senders that check DANE will refuse to deliver to this server: its "
    "certificate matches none of its usable TLSA records, which is what an attack looks "
    "like to them. They keep the mail queued and retry until it expires. Publish a record "
    "for the current certificate (the one below) or put back the certificate the records "
    "describe; when changing keys, publish the new record first and wait out its TTL.",
    "no-certificate": "There was no TLS handshake, so there is no certificate to check the "
    "records against; senders that check DANE refuse a server without TLS.",
    "mta-sts": "MTA-STS (RFC 8461) lets a domain without DNSSEC say, over HTTPS, that its "
    "MX hosts have certificates valid for their names. Senders that have read the policy "
    "refuse to deliver in plaintext or to a certificate they cannot verify.",
    "no-mta-sts": "Without MTA-STS (or DANE) senders use TLS when it is offered but go on "
    "without it, or with any certificate, so someone in the path can strip STARTTLS.",
    "record": "Senders that cannot read exactly one valid v=STSv1 record (none answered, "
    "two, a bad one) go on as if the domain had no MTA-STS, unless they cached its policy "
    "before (RFC 8461 §3.1).",
    "fetch": "With the TXT record but no policy to fetch, senders that have none cached "
    "deliver as if there were no MTA-STS; those that cached one keep applying it until its "
    "max_age runs out (RFC 8461 §5).",
    "policy": "A policy senders can read: it is the one they apply.",
    "invalid": "Senders ignore a policy with a problem like this: the domain has no MTA-STS "
    "in effect.",
    "enforce": "Senders deliver only to the MX hosts listed, over TLS, with a certificate "
    "valid for the MX host's name.",
    "testing": "Mode testing: senders report failures (TLS-RPT, RFC 8460) but deliver "
    "anyway, so nothing is protected yet; switch to enforce once the reports are clean.",
    "none": "Mode none: the domain is withdrawing MTA-STS; senders drop the policy they "
    "cached, and nothing is protected.",
    "max-age": "Senders forget the policy after max_age, and an attacker who strips it then "
    "goes unnoticed; RFC 8461 suggests weeks or more.",
    "allowed": "Senders may deliver to this host, over TLS with a certificate valid for its name.",
    "denied": "Senders that enforce MTA-STS will not deliver to this MX host: the policy "
    "does not list it. They try another MX it allows, or keep the mail queued.",
    "no-mx": "No MX names were given to check against the policy.",
    "unreadable": "Nothing was checked: the policy file could not be read.",
}
"""Why each DANE and MTA-STS finding matters: the one place these words live."""

_DAY = 86400


async def dane_section(
    host: str,
    port: int,
    chain: tuple[CertificateInfo, ...],
    *,
    given: tuple[Tlsa, ...] = (),
    nameserver: str | None = None,
    timeout: float = DNS_TIMEOUT,
) -> Section:
    """DANE for ``host``'s ``port``: the TLSA records ``given``, or else those in DNS,
    each matched against ``chain`` (the certificates the server sent, its own first)."""
    if given:
        records = given
        findings = [Finding(Level.INFO, f"{len(given)} TLSA record(s) given", WHY["given"])]
    else:
        lookup = await tlsa_records(host, port, nameserver=nameserver, timeout=timeout)
        if lookup.absent:
            denial = " (a DNSSEC-validated answer)" if lookup.authenticated else ""
            text = f"no DANE: {lookup.error}{denial}"
            return Section("DANE", (Finding(Level.INFO, text, WHY["no-dane"]),))
        if lookup.error:
            return Section("DANE", (Finding(Level.WARN, lookup.error, WHY["lookup"]),))
        records = lookup.records
        findings = [
            Finding(Level.INFO, f"{len(records)} TLSA record(s) at {lookup.name}", WHY["dane"]),
            Finding(Level.OK, "the TLSA records are DNSSEC-validated", WHY["authenticated"])
            if lookup.authenticated
            else Finding(
                Level.WARN,
                "the TLSA records are not DNSSEC-validated (the resolver did not set AD)",
                WHY["unauthenticated"],
            ),
        ]
    matches = match_tlsa(records, chain)
    matched = any(match.matched for match in matches)
    findings.extend(_record_finding(match, matched) for match in matches)
    if not chain:
        findings.append(
            Finding(
                Level.WARN, "no certificate to check the records against", WHY["no-certificate"]
            )
        )
    elif any(not match.record.problem for match in matches) and not matched:
        suggested = f"{tlsa_name(host, port)}. IN TLSA {tlsa_for(chain[0]).text}"
        findings.append(
            Finding(
                Level.FAIL,
                f"no usable TLSA record matches the server's certificate; one that would: "
                f"{suggested}",
                WHY["mismatch"],
            )
        )
    return Section("DANE", tuple(findings))


def _record_finding(match: TlsaMatch, any_matched: bool) -> Finding:
    text = f"{match.record.text} ({match.record.names}): {match.note}"
    if match.matched:
        return Finding(Level.OK, text, WHY["match"])
    if match.record.problem:
        return Finding(Level.WARN, text, WHY["unusable"])
    return Finding(Level.INFO, text, WHY["other"] if any_matched else "")


async def mta_sts_section(
    domain: str,
    mx_names: tuple[str, ...],
    *,
    policy_file: str | None = None,
    nameserver: str | None = None,
    cafile: str | None = None,
    timeout: float = DNS_TIMEOUT,
    https_port: int = 443,
) -> Section:
    """MTA-STS for ``domain``: its TXT record, its policy (read from ``policy_file`` when
    given, else fetched over HTTPS from ``https_port``) and whether it allows each of
    ``mx_names``."""
    findings: list[Finding] = []
    record, error = await sts_record(domain, nameserver=nameserver, timeout=timeout)
    if record is not None:
        line = f"{sts_name(domain)}: {record.text}"
        findings.append(Finding(Level.OK, line, WHY["mta-sts"]))
    elif error:
        findings.append(Finding(Level.WARN, error, WHY["record"]))
    else:
        line = f"no MTA-STS: no v=STSv1 TXT record at {sts_name(domain)}"
        findings.append(Finding(Level.INFO, line, WHY["no-mta-sts"]))
    text: str | None = None
    where = ""
    if policy_file is not None:
        text, where = _read_policy(policy_file)
        if text is None:
            findings.append(Finding(Level.FAIL, f"policy file: {where}", WHY["unreadable"]))
    elif record is not None:
        where = f"https://{policy_host(domain)}{POLICY_PATH}"
        text, error = await fetch_policy(
            domain, nameserver=nameserver, cafile=cafile, port=https_port, timeout=timeout
        )
        if text is None:
            findings.append(Finding(Level.FAIL, f"no policy: {error}", WHY["fetch"]))
    if text is not None:
        findings.extend(_policy_findings(text, where, mx_names))
    return Section("MTA-STS", tuple(findings))


def _read_policy(typed: str) -> tuple[str | None, str]:
    """The policy file's text and its path, or None and why it cannot be read."""
    try:
        path = find_file(typed)
        data = path.read_bytes()
    except ValueError as error:
        return None, str(error)
    except OSError as error:
        return None, f"{typed}: {error.strerror or error}"
    try:
        return data.decode("utf-8"), str(path)
    except UnicodeDecodeError:
        return None, f"{path} is not UTF-8 text"


def _policy_findings(text: str, where: str, mx_names: tuple[str, ...]) -> list[Finding]:
    policy = parse_policy(text)
    if policy.problems:
        return [
            Finding(Level.FAIL, f"policy from {where}: {problem}", WHY["invalid"])
            for problem in policy.problems
        ]
    days = policy.max_age / _DAY
    age = f"{policy.max_age} s" + (f", {days:.3g} day{'s' * (days != 1)}" if days >= 1 else "")
    patterns = ", ".join(policy.mx) or "none"
    findings = [
        Finding(Level.OK, f"policy from {where}: max_age {age}, mx {patterns}", WHY["policy"]),
        Finding(
            Level.OK if policy.mode == "enforce" else Level.WARN,
            f"mode {policy.mode}",
            WHY[policy.mode],
        ),
    ]
    if policy.mode != "none" and policy.max_age < _DAY:
        findings.append(
            Finding(Level.WARN, f"max_age is under a day ({policy.max_age} s)", WHY["max-age"])
        )
    if not mx_names:
        findings.append(Finding(Level.INFO, "no MX names to check", WHY["no-mx"]))
    denied = {"enforce": Level.FAIL, "testing": Level.WARN, "none": Level.INFO}[policy.mode]
    for name in mx_names:
        if mx_allowed(policy, name):
            findings.append(
                Finding(Level.OK, f"MX {name} is allowed by the policy", WHY["allowed"])
            )
        else:
            findings.append(
                Finding(denied, f"MX {name} is not allowed by the policy", WHY["denied"])
            )
    return findings
