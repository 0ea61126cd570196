"""PyTorch eager equivalent of benches/throughput.rs: examples/s of the stdlib two-tower
(embed 64 -> dense 128 -> relu -> dense 64 per side, dot) and MF (64-d dot) trained with BPR + Adam
on random (user, positive, negative) triples over 943 users x 1,682 items, batch 1024 and 8192.

    python3 throughput.py [--device cpu|cuda] [--threads 2] [--steps 200]

Needs PyTorch: the 2.11.0 wheel from the package index runs CPU-only on the dev machines (in a
venv outside the repo); `benches/trainer_compare.py` runs this beside the Rust bench.
"""
import argparse
import time

import torch
from torch import nn

USERS, ITEMS = 943, 1682


class TwoTower(nn.Module):
    def __init__(self):
        super().__init__()
        self.u = nn.Embedding(USERS, 64)
        self.i = nn.Embedding(ITEMS, 64)
        self.ut = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64))
        self.it = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64))

    def forward(self, users, items):
        return (self.ut(self.u(users)) * self.it(self.i(items))).sum(-1)


class MF(nn.Module):
    def __init__(self):
        super().__init__()
        self.u = nn.Embedding(USERS, 64)
        self.i = nn.Embedding(ITEMS, 64)

    def forward(self, users, items):
        return (self.u(users) * self.i(items)).sum(-1)


def bench(model, batch, steps, device):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator(device="cpu").manual_seed(0)

    def step():
        u = torch.randint(0, USERS, (batch,), generator=g).to(device)
        pos = torch.randint(0, ITEMS, (batch,), generator=g).to(device)
        neg = torch.randint(0, ITEMS, (batch,), generator=g).to(device)
        # One forward over positives and negatives, as the Rust trainer does.
        s = model(torch.cat([u, u]), torch.cat([pos, neg])).view(2, batch)
        loss = -torch.nn.functional.logsigmoid(s[0] - s[1]).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    for _ in range(20):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for k in range(steps):
        loss = step()
        if k % 50 == 49:
            # The Rust trainer checks the loss for NaN every 50 steps (one sync); do the same.
            assert torch.isfinite(loss).item()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return batch * steps / (time.perf_counter() - start)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=200)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    device = torch.device(a.device)
    print(f"PyTorch {torch.__version__} eager on {device}, {a.threads} threads")
    print(f"{'model':<10} {'batch':>6} {'examples/s':>14}")
    for name, cls in (("two_tower", TwoTower), ("bpr_mf", MF)):
        for batch in (1024, 8192):
            torch.manual_seed(0)
            rate = bench(cls().to(device), batch, a.steps, device)
            print(f"{name:<10} {batch:>6} {rate:>14.0f}")


if __name__ == "__main__":
    main()
