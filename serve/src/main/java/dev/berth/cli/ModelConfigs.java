package dev.berth.cli;

import dev.berth.registry.LocalRegistry;
import dev.berth.registry.TritonConfig;

import java.io.PrintWriter;
import java.util.Optional;

/**
 * Reads every model's {@code model.json} and Triton {@code config.pbtxt} before {@code berth serve}
 * starts: a malformed or impossible one stops the start with its one-line reason (naming the
 * file, key or line), instead of a server that quietly serves the model with defaults; fields
 * berth does not act on are printed once as warnings.
 */
final class ModelConfigs {
    private ModelConfigs() {
    }

    static void check(LocalRegistry registry, PrintWriter err) {
        for (String model : registry.models()) {
            Optional<TritonConfig> triton = registry.tritonConfig(model);
            triton.ifPresent(t -> t.warnings().forEach(w -> err.println("berth: warning: " + t.file() + ": " + w)));
            registry.info(model);
        }
        err.flush();
    }
}
