from socklint.cli import main

raise SystemExit(main())
