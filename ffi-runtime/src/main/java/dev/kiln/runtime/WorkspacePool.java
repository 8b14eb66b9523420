package dev.kiln.runtime;

import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * A fixed set of workspaces that concurrent calls borrow, so predictions from many threads run
 * in parallel without allocating: a borrower claims a free slot by compare-and-set and creates its
 * workspace on first use. With every slot busy, a borrower spins until one frees up.
 */
final class WorkspacePool implements AutoCloseable {
    private final Workspace[] workspaces;
    private final AtomicIntegerArray busy;

    WorkspacePool(int slots) {
        workspaces = new Workspace[slots];
        busy = new AtomicIntegerArray(slots);
    }

    /** Returns the index of a claimed slot, whose workspace {@link #get} returns. */
    int acquire() {
        int start = (int) (Thread.currentThread().threadId() % workspaces.length);
        while (true) {
            for (int i = 0; i < workspaces.length; i++) {
                int slot = (start + i) % workspaces.length;
                if (busy.get(slot) == 0 && busy.compareAndSet(slot, 0, 1)) {
                    if (workspaces[slot] == null) {
                        workspaces[slot] = new Workspace();
                    }
                    return slot;
                }
            }
            Thread.onSpinWait();
        }
    }

    Workspace get(int slot) {
        return workspaces[slot];
    }

    void release(int slot) {
        busy.set(slot, 0);
    }

    /** Frees every workspace; callers must have released their slots. */
    @Override
    public void close() {
        for (Workspace workspace : workspaces) {
            if (workspace != null) {
                workspace.close();
            }
        }
    }
}
