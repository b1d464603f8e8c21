"""Child process for test_crash.py: trades through a journaling engine and
acknowledges each command on stdout once it is durable, until it is killed.

    python tests/crash_child.py DIR SEED FSYNC
Prints `ACK <journal seq>` lines (after fsync) and stops by itself after a bound.
"""

import random
import sys

from pyengine import Engine


def main() -> None:
    path, seed, fsync = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    rng = random.Random(seed)
    eng = Engine.open(path, fsync=fsync)
    if "ACME" not in eng.instruments():
        eng.add_instrument("ACME", tick_size=1, lot_size=1)
        eng.commit()
    live: list[int] = []
    out = sys.stdout
    for n in range(20_000):  # bounded: the parent kills long before this
        order_id = (eng.journal_seq or 0) + 1
        roll = rng.random()
        if roll < 0.6 or not live:
            side = rng.choice(("buy", "sell"))
            price = 100 + rng.randint(-5, 5)
            eng.submit("ACME", order_id, f"acct-{rng.randint(1, 5)}", side, rng.randint(1, 20), price)
            live.append(order_id)
        elif roll < 0.8:
            eng.cancel("ACME", live.pop(rng.randrange(len(live))))
        elif roll < 0.9:
            eng.amend("ACME", rng.choice(live), qty=rng.randint(1, 25))
        else:
            eng.submit("ACME", order_id, "acct-9", rng.choice(("buy", "sell")), rng.randint(1, 30), type="market")
        if fsync == "always":
            out.write(f"ACK {eng.journal_seq}\n")
        elif n % 8 == 7:
            out.write(f"ACK {eng.commit()}\n")
        if n % 500 == 499:
            eng.snapshot()
        out.flush()


if __name__ == "__main__":
    main()
