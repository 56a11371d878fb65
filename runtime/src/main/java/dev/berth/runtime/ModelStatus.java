package dev.berth.runtime;

/** The state of one model version, with the reason where it is not ready (for the repository index). */
public record ModelStatus(String name, int version, ModelState state, String reason) {
}
