"""The Python half of examples/python_queue_consumer.rs: takes readings from a named Queue a
Rust program fills, until a named Event says the producer is done and the queue is empty.

    PYTHONPATH=python python3 examples/python_queue_consumer.py QUEUE_NAME EVENT_NAME
"""

import queue
import sys

import sharedctypes as sc

readings = sc.open_named(sys.argv[1])  # a sharedctypes.Queue of Reading records
done = sc.open_named(sys.argv[2])  # a sharedctypes.Event
count, total, in_order = 0, 0.0, True
while True:
    try:
        r = readings.get(timeout=0.05)  # a ctypes structure laid out as Rust's Reading
    except queue.Empty:
        if done.is_set() and readings.empty():
            break
        continue
    in_order = in_order and r.seq == count
    count += 1
    total += r.values[0]
print("python: %d readings (%s), %s, sum of values[0] = %g"
      % (count, type(r).__name__, "in order" if in_order else "OUT OF ORDER", total))
