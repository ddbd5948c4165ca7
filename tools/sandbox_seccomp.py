"""Seccomp filter of the Python sandbox: system calls that hold memory no limit counts, denied.

``RLIMIT_AS`` bounds the address space of each process, but some kernel objects hold memory
outside it: a ``memfd_create`` file filled with ``fallocate`` (one run held 2 GiB under a
512 MiB limit), System V shared memory and message queues kept after detaching, kernel
keyrings (which also outlive the run, item 10 of issue 13), io_uring buffers, and a tmpfs of
any size mounted inside a new user namespace. The sandbox's program runs under a filter that
answers these calls with an error:

* ``EPERM``: ``memfd_create``, ``memfd_secret``, ``shmget``, ``msgget``, ``add_key``,
  ``request_key``, ``keyctl``, ``userfaultfd``, ``io_uring_*``, ``bpf``,
  ``perf_event_open``, ``unshare``, ``setns``, the mount family, ``clone`` with any
  ``CLONE_NEW*`` flag, and any call of a foreign ABI (x32, i386 on x86-64);
* ``ENOSYS``: ``clone3`` (its flags cannot be inspected; the C library falls back to ``clone``,
  as under Docker's default profile).

The filter is a classic BPF program assembled here (no libseccomp needed, so the launcher stays
stdlib-only; ``pyseccomp``, the PyPI binding, was last released in 2021 and needs the system
library). Supported machines: x86-64 and aarch64; elsewhere :func:`filter_program` raises.
"""

from __future__ import annotations

import ctypes
import errno
import os
import struct

PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000
BPF_LD_W_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
BPF_JEQ_K = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
BPF_JGE_K = 0x35  # BPF_JMP | BPF_JGE | BPF_K
BPF_JSET_K = 0x45  # BPF_JMP | BPF_JSET | BPF_K
BPF_RET_K = 0x06
CLONE_NAMESPACE_FLAGS = 0x7E020000  # NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET
X32_SYSCALL_BIT = 0x40000000

DENIED_CALLS = (
    "memfd_create",
    "memfd_secret",
    "shmget",
    "msgget",
    "add_key",
    "request_key",
    "keyctl",
    "userfaultfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "bpf",
    "perf_event_open",
    "unshare",
    "setns",
    "mount",
    "umount2",
    "pivot_root",
    "open_tree",
    "move_mount",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
)
"""System calls answered with ``EPERM``."""

_ARCHES = {
    # machine: (AUDIT_ARCH_*, syscall numbers)
    "x86_64": (
        0xC000003E,
        {
            "memfd_create": 319,
            "memfd_secret": 447,
            "shmget": 29,
            "msgget": 68,
            "add_key": 248,
            "request_key": 249,
            "keyctl": 250,
            "userfaultfd": 323,
            "io_uring_setup": 425,
            "io_uring_enter": 426,
            "io_uring_register": 427,
            "bpf": 321,
            "perf_event_open": 298,
            "unshare": 272,
            "setns": 308,
            "mount": 165,
            "umount2": 166,
            "pivot_root": 155,
            "open_tree": 428,
            "move_mount": 429,
            "fsopen": 430,
            "fsconfig": 431,
            "fsmount": 432,
            "fspick": 433,
            "mount_setattr": 442,
            "clone": 56,
            "clone3": 435,
        },
    ),
    "aarch64": (
        0xC00000B7,
        {
            "memfd_create": 279,
            "memfd_secret": 447,
            "shmget": 194,
            "msgget": 186,
            "add_key": 217,
            "request_key": 218,
            "keyctl": 219,
            "userfaultfd": 282,
            "io_uring_setup": 425,
            "io_uring_enter": 426,
            "io_uring_register": 427,
            "bpf": 280,
            "perf_event_open": 241,
            "unshare": 97,
            "setns": 268,
            "mount": 40,
            "umount2": 39,
            "pivot_root": 41,
            "open_tree": 428,
            "move_mount": 429,
            "fsopen": 430,
            "fsconfig": 431,
            "fsmount": 432,
            "fspick": 433,
            "mount_setattr": 442,
            "clone": 220,
            "clone3": 435,
        },
    ),
}


def filter_program(machine: str | None = None) -> bytes:
    """The BPF program (``struct sock_filter`` array) for ``machine`` (default: this one).

    Raises:
        OSError: the machine's architecture is not supported.
    """
    machine = machine or os.uname().machine
    if machine not in _ARCHES:
        raise OSError(errno.ENOSYS, f"no seccomp filter for architecture {machine!r}")
    arch, numbers = _ARCHES[machine]
    # Instructions as (code, jump-if-true label, jump-if-false label, k); labels are resolved
    # to relative offsets below. "next" is the following instruction.
    program: list[tuple[int, str, str, int]] = [
        (BPF_LD_W_ABS, "next", "next", 4),  # seccomp_data.arch
        (BPF_JEQ_K, "next", "eperm", arch),
        (BPF_LD_W_ABS, "next", "next", 0),  # seccomp_data.nr
    ]
    if machine == "x86_64":
        program.append((BPF_JGE_K, "eperm", "next", X32_SYSCALL_BIT))
    program += [(BPF_JEQ_K, "eperm", "next", numbers[name]) for name in DENIED_CALLS]
    program += [
        (BPF_JEQ_K, "enosys", "next", numbers["clone3"]),
        (BPF_JEQ_K, "next", "allow", numbers["clone"]),
        (BPF_LD_W_ABS, "next", "next", 16),  # low 32 bits of args[0] (little-endian): the flags
        (BPF_JSET_K, "eperm", "allow", CLONE_NAMESPACE_FLAGS),
    ]
    labels = {"allow": len(program), "eperm": len(program) + 1, "enosys": len(program) + 2}
    program += [
        (BPF_RET_K, "next", "next", SECCOMP_RET_ALLOW),
        (BPF_RET_K, "next", "next", SECCOMP_RET_ERRNO | errno.EPERM),
        (BPF_RET_K, "next", "next", SECCOMP_RET_ERRNO | errno.ENOSYS),
    ]
    encoded = bytearray()
    for index, (code, if_true, if_false, k) in enumerate(program):
        offsets = [0 if label == "next" else labels[label] - index - 1 for label in (if_true, if_false)]
        encoded += struct.pack("=HBBI", code, offsets[0], offsets[1], k)
    return bytes(encoded)


class _SockFprog(ctypes.Structure):
    _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.c_void_p))


def install(program: bytes) -> None:
    """Install ``program`` on the calling thread (``no_new_privs`` must already be set).

    Raises:
        OSError: the kernel refused the filter.
    """
    buffer = ctypes.create_string_buffer(program, len(program))
    prog = _SockFprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    libc = ctypes.CDLL(None, use_errno=True)
    mode = ctypes.c_ulong(SECCOMP_MODE_FILTER)
    if libc.prctl(PR_SET_SECCOMP, mode, ctypes.byref(prog), ctypes.c_ulong(0), ctypes.c_ulong(0)) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"seccomp filter: {os.strerror(error)}")
