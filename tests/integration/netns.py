"""Throwaway network namespaces for tests that need a real kernel (never the host's ruleset)."""
import itertools
import os
import subprocess

_counter = itertools.count()


class NetNS:
    """A named network namespace; commands run inside it with `ip netns exec`."""

    def __init__(self, prefix="np"):
        self.name = "%s-%d-%d" % (prefix, os.getpid(), next(_counter))
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        self.run(["ip", "link", "set", "lo", "up"])

    def argv(self, argv):
        return ["ip", "netns", "exec", self.name] + list(argv)

    def run(self, argv, check=True, input=None, env=None, timeout=60):
        """Run argv inside the namespace; returns CompletedProcess with text output."""
        proc = subprocess.run(self.argv(argv), input=input, capture_output=True, text=True,
                              env=env, timeout=timeout, check=False)
        if check and proc.returncode != 0:
            raise AssertionError("%s failed (rc=%d): %s%s" % (
                " ".join(argv), proc.returncode, proc.stdout, proc.stderr))
        return proc

    def nft(self, *args, input=None, check=True):
        return self.run(["nft"] + list(args), input=input, check=check)

    def add_links(self, *names):
        """Create interfaces (veth pairs; this kernel has no dummy driver) so rulesets naming
        them can load. The peer of NAME is NAME-p, in the same namespace."""
        for ifname in names:
            self.run(["ip", "link", "add", ifname, "type", "veth", "peer", "name", ifname + "-p"])
            self.run(["ip", "link", "set", ifname, "up"])

    def delete(self):
        subprocess.run(["ip", "netns", "del", self.name], check=False)
