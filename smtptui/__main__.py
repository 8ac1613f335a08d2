from smtptui.cli import main

main(prog_name="smtptui")  # not "python -m smtptui": the same usage lines and completion
