import sys

from kejiyun_match._cli import main

sys.exit(main())
