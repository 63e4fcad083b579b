"""A DDP loop on several processes, paused and stepped in lockstep by acc: the small CNN of
own_loop.py on the bundled MNIST digits, each rank training on its own shard.

    .venv/bin/python examples/ddp.py                     # 2 ranks on the CPU (gloo), spawned
    .venv/bin/python examples/ddp.py --world-size 4 --port 0 --steps 500
    torchrun --nproc-per-node 2 examples/ddp.py          # the same under torchrun
    torchrun --nproc-per-node 2 examples/ddp.py --backend nccl   # one GPU per rank
    .venv/bin/python examples/ddp.py --same-data         # the bug the rank comparison shows

Every rank calls `acc.attach(...)` and `dbg.step(...)` as in one process; rank 0 serves the API
and dashboard (and prints the URL), the other ranks serve nothing. Pause, Step n, Resume and
Stop act on every rank at the same step.
"""

from __future__ import annotations

import argparse
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from own_loop import SmallCNN, add_training_options
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

import acc
from acc.data import load_mnist


def train(rank: int, world_size: int, args: argparse.Namespace) -> None:
    """One rank: join the group, attach, train on this rank's shard until the steps run out or
    Stop comes from the dashboard."""
    device = torch.device(
        f"cuda:{int(os.environ.get('LOCAL_RANK', rank))}" if args.backend == "nccl" else "cpu"
    )
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group(args.backend, rank=rank, world_size=world_size)
    torch.manual_seed(args.seed)  # the same initial weights on every rank (DDP checks them)
    data = load_mnist()
    dataset = TensorDataset(data.train.images, data.train.labels)
    # --same-data: every rank reads the whole set in the same order (the bug of a DDP job
    # without a DistributedSampler), which the rank comparison shows.
    replicas, shard = (1, 0) if args.same_data else (world_size, rank)
    sampler = DistributedSampler(dataset, replicas, shard, shuffle=True, seed=args.seed)
    loader = DataLoader(dataset, batch_size=args.batch_size, sampler=sampler, drop_last=True)
    model = DistributedDataParallel(
        SmallCNN().to(device), device_ids=[device.index] if device.type == "cuda" else None
    )
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    print(f"rank {rank}: pid {os.getpid()}", flush=True)

    step = 0
    with acc.attach(
        model,
        optimizer,
        port=args.port,
        capture_every=args.capture_every,
        paused=args.paused,
        rank_timeout=args.rank_timeout,
    ) as dbg:
        epoch = 0
        while step < args.steps:
            sampler.set_epoch(epoch)
            for images, labels in loader:
                images, labels = images.to(device), labels.to(device)
                logits = model(images)
                loss = F.cross_entropy(logits, labels)
                optimizer.zero_grad()
                loss.backward()  # DDP all-reduces the gradients here
                optimizer.step()
                step += 1
                dbg.record_batch(images)
                dbg.step(loss=loss, accuracy=(logits.argmax(1) == labels).float().mean())
                if step >= args.steps:
                    break
            epoch += 1
    print(f"rank {rank}: finished after {step} steps", flush=True)
    dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8787, help="rank 0's API port (0: free)")
    parser.add_argument("--steps", type=int, default=3000, help="training steps per rank")
    parser.add_argument("--world-size", type=int, default=2, help="ranks to spawn (no torchrun)")
    parser.add_argument("--backend", choices=("gloo", "nccl"), default="gloo")
    parser.add_argument("--paused", action="store_true", help="wait after the first step")
    parser.add_argument("--rank-timeout", type=float, default=300.0)
    parser.add_argument("--same-data", action="store_true", help="every rank on the same batches")
    add_training_options(parser)
    args = parser.parse_args(argv)

    if "RANK" in os.environ:  # torchrun (or a launcher like it) started this rank
        train(int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), args)
        return 0
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", str(_free_port()))
    mp.spawn(train, args=(args.world_size, args), nprocs=args.world_size, join=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
