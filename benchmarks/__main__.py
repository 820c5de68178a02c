"""``python -m benchmarks``: run the benchmarks and print a table of ratios."""

from benchmarks.marshalling import main

if __name__ == "__main__":
    main()
