from glossify.cli import main

main()
