from spproxy.cli import main

raise SystemExit(main())
