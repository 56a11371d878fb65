package dev.berth.runtime;

/** Life cycle of a loaded model version, as Triton names it. */
public enum ModelState {
    LOADING, READY, UNAVAILABLE, UNLOADING
}
