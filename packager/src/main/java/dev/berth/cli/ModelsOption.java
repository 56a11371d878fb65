package dev.berth.cli;

import dev.berth.registry.LocalRegistry;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** The {@code --models DIR} option every command shares (mixin). */
public final class ModelsOption {
    @Option(names = "--models", paramLabel = "DIR",
            description = "Registry folder (default: $BERTH_MODELS, else ./models).")
    Path models;

    /** The registry folder this invocation means. */
    public Path root() {
        return LocalRegistry.defaultRoot(models);
    }

    /** The registry this invocation works on. */
    public LocalRegistry registry() {
        return LocalRegistry.open(root());
    }
}
