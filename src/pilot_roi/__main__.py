from pilot_roi.cli import main

raise SystemExit(main())
