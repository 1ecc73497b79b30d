from grader.cli import run

if __name__ == "__main__":  # not when a spawned child (Windows) imports it as __mp_main__
    run()
