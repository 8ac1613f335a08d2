from smtptui.cli import main

main()
