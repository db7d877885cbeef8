"""A fresh file system for each benchmark row (bench/api.py, bench/audit.py).

On one file system shared by all rows, a row ran slower the more mail the
rows before it had written and deleted, whatever it measured; so each row's
server gets a newly made ext4 image with its journal, loop-mounted as a
mail server's disk would be (FS=image, the default as root), or a new
directory (FS=tmp).  FS_IMAGE_SIZE sets the (sparse) image's size."""

import os

import smtp_accept as sa

FS = os.environ.get("FS", "image" if os.geteuid() == 0 else "tmp")
FS_IMAGE_SIZE = os.environ.get("FS_IMAGE_SIZE", "6G")


class FreshFs:
    """A directory for one row's server: a newly made, loop-mounted ext4
    image (FS=image) or a new directory under the run's temporary one
    (FS=tmp).  Images and mount points live outside the temporary directory
    and are unmounted and removed by close(), also at exit."""
    mounted = []

    def __init__(self, tmp, n):
        self.point = os.path.join(tmp, "row%d" % n)
        self.image = None
        os.mkdir(self.point)
        if FS != "image":
            return
        self.point = tmp + "-row%d" % n
        self.image = self.point + ".img"
        os.mkdir(self.point)
        for cmd in (["truncate", "-s", FS_IMAGE_SIZE, self.image],
                    ["mkfs.ext4", "-q", "-F", "-i", "16384", self.image],
                    ["mount", "-o", "loop", self.image, self.point]):
            r = sa.run(cmd, timeout=120)
            if r.returncode != 0:
                self.close()
                raise sa.BenchError("%s failed (rc %d): %s (FS=tmp runs without an image)"
                                    % (" ".join(cmd), r.returncode, r.stderr.strip()))
        FreshFs.mounted.append(self)

    def close(self):
        if self in FreshFs.mounted:
            sa.run(["umount", self.point], timeout=120)
            FreshFs.mounted.remove(self)
        if self.image is not None:
            if os.path.exists(self.image):
                os.unlink(self.image)
            os.rmdir(self.point)

    @staticmethod
    def close_all():
        for f in list(FreshFs.mounted):
            f.close()
