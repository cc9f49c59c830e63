"""Brian2 side of the simulation benchmark (experiments/bench-sim.ts), run by `npm run bench` when
Brian2 is installed (Debian: python3-brian), never required:

    python3 experiments/bench-brian2.py '{"steps": 10000, "target": "auto"}'

The same network: 1000 Poisson inputs at 20 Hz drive 1000 LIF neurons (tau = 20 ms, threshold 1,
reset by subtraction) through all-to-all synapses with weights uniform in +-4/sqrt(1000), dt = 1 ms,
10 s of biological time after a 1 s warm-up run. Prints one JSON line: wall seconds of the timed
run, the output population's mean rate in Hz, Brian2's version and code-generation target.
"""
import json
import sys
import time


def main() -> None:
    opts = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    steps = int(opts.get("steps", 10000))
    target = opts.get("target", "auto")
    import brian2 as b2
    import numpy as np

    b2.prefs.codegen.target = target
    b2.defaultclock.dt = 1 * b2.ms
    b2.seed(1)
    n = 1000
    inputs = b2.PoissonGroup(n, rates=20 * b2.Hz)
    tau = 20 * b2.ms
    neurons = b2.NeuronGroup(n, "dv/dt = -v / tau : 1", threshold="v > 1", reset="v -= 1", method="exact",
                             namespace={"tau": tau})
    syn = b2.Synapses(inputs, neurons, "w : 1", on_pre="v += w")
    syn.connect()
    bound = 4 / np.sqrt(n)
    syn.w = np.random.default_rng(1).uniform(-bound, bound, n * n)
    spikes = b2.SpikeMonitor(neurons, record=False)
    net = b2.Network(inputs, neurons, syn, spikes)
    net.run(1 * b2.second)  # warm-up (code generation, compilation)
    count0 = int(spikes.num_spikes)
    t0 = time.perf_counter()
    net.run(steps * b2.ms)
    seconds = time.perf_counter() - t0
    rate = (int(spikes.num_spikes) - count0) / n / (steps / 1000)
    print(json.dumps({"simulator": "brian2", "version": b2.__version__, "target": b2.prefs.codegen.target,
                      "seconds": seconds, "steps": steps, "outputRateHz": rate}))


if __name__ == "__main__":
    main()
