// The --bind/--ro-bind sources of a sandbox, opened by nsrun before the clone: each is a detached copy of the
// source's mount tree (open_tree OPEN_TREE_CLONE), taken from the caller's view, so no mount the sandbox makes
// later (a --tmpfs, its private /tmp) can hide a source, and a --read-only / does not reach the writable ones.
// The child attaches them where they go (runtime/mounts.cc).
#pragma once

#include <sys/types.h>

#include <vector>

#include "base/unique_fd.h"
#include "runtime/child.h"
#include "runtime/process_settings.h"

namespace nsrun::runtime {

class BindSources {
public:
    // One step per request; `open`: the trees are opened here (needs root; without it the child opens them
    // first thing, before it mounts anything); `own_view`: the sandbox has the view's private /tmp, /var/tmp
    // and /run (runtime/view.h). Throws Error("--bind SRC", why).
    BindSources(const std::vector<MountRequest>& mounts, bool open, bool own_view);

    // After the clone, before the child goes on: with a mapped block (userns: the idmap's user namespace), the
    // trees become idmapped mounts; the --ro-bind ones are made read-only. Throws Error("--bind SRC", why)
    // naming a file system that cannot be idmapped.
    void finish(int userns);

    bool any_bind() const noexcept { return any_bind_; }
    MountStep* steps() noexcept { return steps_.data(); }

private:
    const std::vector<MountRequest>& mounts_;
    std::vector<UniqueFd> trees_;
    std::vector<MountStep> steps_;
    bool any_bind_ = false;
};

}  // namespace nsrun::runtime
