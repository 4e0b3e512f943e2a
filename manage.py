#!/usr/bin/env python
from jishi.cli import main

if __name__ == "__main__":
    main()
