/* The kernel's btrfs ioctl interface, for bindgen (see build.rs). */
#include <linux/btrfs.h>
#include <linux/btrfs_tree.h>
