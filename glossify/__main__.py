from glossify.cli.main import main

main()
