"""Records TensorFlow's DeviceSpec parse / to_string / merge results to tests/fixtures/device_specs.json.

Run with a Python that has TensorFlow: /work/tfenv/bin/python tools/record_device_fixtures.py
"""
import json
import os

import tensorflow as tf

SPECS = ["/device:GPU:1", "/GPU:0", "gpu:0", "CPU", "cpu:*", "/cpu:0",
         "/job:localhost/replica:0/task:0/device:CPU:0", "/job:worker/task:3", "/replica:2",
         "/job:a/job:b", "/device:XLA_CPU:0", "", "/gpu:*", "GPU:1/job:w",
         "foo", "/cpu:0/gpu:1", "/job:w/foo:1"]
MERGES = [("/cpu:0", "/gpu:1"), ("/job:w/cpu:0", "/device:GPU:*"), ("/gpu:1", "/job:x"),
          ("/job:a/replica:1/task:2/device:GPU:3", "/task:5"), ("/gpu:2", "/gpu:*"),
          ("/device:CPU:0", "/replica:0"), ("", "/gpu:0")]


def parse(s):
    try:
        d = tf.DeviceSpec.from_string(s)
    except ValueError as e:
        return {"error": "ValueError", "message": str(e)}
    return {"job": d.job, "replica": d.replica, "task": d.task, "device_type": d.device_type,
            "device_index": d.device_index, "to_string": d.to_string()}


def main():
    out = {"parse": {s: parse(s) for s in SPECS},
           "merge": [[a, b, tf.DeviceSpec.from_string(a).make_merged_spec(
               tf.DeviceSpec.from_string(b)).to_string()] for a, b in MERGES]}
    path = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "device_specs.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
