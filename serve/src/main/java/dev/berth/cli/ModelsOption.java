package dev.berth.cli;

import dev.berth.registry.InvalidArgumentException;
import dev.berth.registry.LocalRegistry;
import picocli.CommandLine.Option;

import java.nio.file.Files;
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

    /**
     * The registry for a command that only reads or changes what is there. A mistyped {@code --models}
     * would otherwise look like an empty registry: {@code list} would print nothing and {@code verify}
     * would pass having checked nothing.
     */
    public LocalRegistry existingRegistry() {
        Path root = root();
        if (!Files.isDirectory(root)) {
            throw new InvalidArgumentException("no registry folder at " + root + " (give --models DIR or set BERTH_MODELS)");
        }
        return LocalRegistry.open(root);
    }
}
