"""``python -m benchmarks``: run the benchmarks and print a table of ratios."""

from benchmarks import calls, expressions, marshalling, memory, unit_of_work

if __name__ == "__main__":
    marshalling.main()
    expressions.main()
    unit_of_work.main()
    calls.main([])
    memory.main([])
