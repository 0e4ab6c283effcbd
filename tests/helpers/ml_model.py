"""A tiny model server for the ML tests, built on the label-studio-ml package (1.0.9).

Run with the model-server venv, never with LabelDesk's own (label-studio-ml pins Flask 1.1.2):

    .venv-ml/bin/python tests/helpers/ml_model.py --port 9090 --model-dir /tmp/models

The model predicts the "Pos" choice of the first Choices control, with a score that grows with
the length of the text, and records each training event it receives in <model-dir>/events.jsonl.
"""

import argparse
import json
import os

from label_studio_ml.api import init_app
from label_studio_ml.model import LabelStudioMLBase


class LengthModel(LabelStudioMLBase):
    def _control(self):
        for name, info in (self.parsed_label_config or {}).items():
            if info["type"].lower() == "choices":
                return name, info["to_name"][0], info["inputs"][0]["value"]
        raise ValueError("LengthModel needs a Choices control in the label config")

    def predict(self, tasks, **kwargs):
        from_name, to_name, value = self._control()
        predictions = []
        for task in tasks:
            text = str(task["data"].get(value, ""))
            if text == "__fail__":
                raise RuntimeError("the test asked this model to fail")
            score = round(min(len(text), 100) / 100, 2)
            predictions.append({
                "result": [{"from_name": from_name, "to_name": to_name, "type": "choices",
                            "value": {"choices": ["Pos"]}}],
                "score": score})
        return predictions

    def process_event(self, event, data, job_id, additional_params):
        # label-studio-ml 1.0.9 trains on annotation events only; log every event the server
        # got (START_TRAINING included) so that tests can see what LabelDesk sent.
        folder = os.environ.get("LENGTH_MODEL_EVENTS")
        if folder:
            with open(os.path.join(folder, "events.jsonl"), "a") as f:
                f.write(json.dumps({"event": event, "data": data}) + "\n")
        return {"trained_on": event}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9090)
    parser.add_argument("--model-dir", default=".")
    args = parser.parse_args()
    os.environ.setdefault("LENGTH_MODEL_EVENTS", args.model_dir)
    app = init_app(model_class=LengthModel, model_dir=args.model_dir,
                   redis_host="127.0.0.1", redis_port=1)  # no Redis: jobs run as subprocesses
    app.run(host=args.host, port=args.port, debug=False, threaded=True)


if __name__ == "__main__":
    main()
