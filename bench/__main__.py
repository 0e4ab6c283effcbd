"""`python -m bench`: every default benchmark. `python -m bench store|api|ui|window|trash|history|
load|assistants|assistant-models [...]`: one.

The default run (store at 100k documents, API, UI, window and trash at 100k tasks, the history
of 100k annotations edited 5 times) finishes in under 10 minutes on a 2-core machine. The
1M-task runs are separate: `python -m bench api --tasks 1000000`, `python -m bench window
--tasks 1000000`, `python -m bench trash --tasks 1000000`.
"""

import argparse
import sys
import time

from bench import (
    OUT_DIR,
    api,
    assistants,
    assistants_models,
    history,
    labeling_load,
    store,
    trash,
    ui,
    window,
)

TOPICS = {"store": store, "api": api, "ui": ui, "window": window, "trash": trash,
          "history": history,
          "load": labeling_load, "assistants": assistants,
          "assistant-models": assistants_models}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(OUT_DIR), help="folder for the JSON results")
    topics = parser.add_subparsers(dest="topic", metavar="TOPIC")
    for name, module in TOPICS.items():
        module.add_arguments(topics.add_parser(name, help=module.__doc__.split("\n")[0]))
    args = parser.parse_args(argv)

    if args.topic:
        runs = [(args.topic, args)]
    else:  # everything, with each topic's defaults
        runs = []
        for name, module in TOPICS.items():
            sub = argparse.ArgumentParser()
            module.add_arguments(sub)
            runs.append((name, sub.parse_args([])))

    started = time.perf_counter()
    reports, failed = [], False
    for name, topic_args in runs:
        try:
            report = TOPICS[name].run(topic_args)
        except Exception as e:  # one broken bench must not hide the others' figures
            import traceback
            traceback.print_exc()
            print(f"!! {name} benchmark crashed: {type(e).__name__}: {e}", flush=True)
            failed = True
            continue
        path = report.write(args.out)
        reports.append((report, path))
    print()
    for report, path in reports:
        print(report.table())
        print(f"-> {path}\n")
    fails = [r["what"] for report, _ in reports for r in report.failed()]
    print(f"{len(reports)} benchmark(s) in {time.perf_counter() - started:.0f} s; "
          f"{len(fails)} figure(s) miss their target" + (": " if fails else "."))
    for what in fails:
        print(f"  FAIL {what}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
