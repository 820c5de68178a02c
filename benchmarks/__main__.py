"""``python -m benchmarks``: run the benchmarks and print a table of ratios."""

from benchmarks import expressions, marshalling

if __name__ == "__main__":
    marshalling.main()
    expressions.main()
