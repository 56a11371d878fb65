package dev.berth.cli;

import dev.berth.registry.InvalidArgumentException;
import dev.berth.registry.LocalRegistry;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Refuses to serve a registry folder that holds no model, the usual sign of a mistyped
 * {@code --models}: a server that answers ready with nothing to serve hides the mistake until the
 * first request. When the folder is a model's or a version's folder, or holds a registry one level
 * down, the message names the folder that was probably meant.
 */
final class EmptyRegistry {
    private EmptyRegistry() {
    }

    /** Throws a one-line {@link InvalidArgumentException} when {@code root} holds no model. */
    static void check(Path root) {
        if (!LocalRegistry.open(root).models().isEmpty()) {
            return;
        }
        String where = root.toAbsolutePath().normalize().toString();
        String hint = suggestion(root.toAbsolutePath().normalize()).map(p -> " (did you mean --models " + p + "?)").orElse("");
        throw new InvalidArgumentException("the registry " + where + " holds no model" + hint
                + "; give --allow-empty to serve it anyway");
    }

    /** The folder the user probably meant, if one is near. */
    static Optional<Path> suggestion(Path root) {
        // a version folder (models/churn/1): two levels too deep
        if (Files.isRegularFile(root.resolve(LocalRegistry.MODEL_FILE)) || Files.isRegularFile(root.resolve(LocalRegistry.MANIFEST_FILE))) {
            Path model = root.getParent();
            if (model != null && model.getParent() != null && isRegistry(model.getParent())) {
                return Optional.of(model.getParent());
            }
        }
        // a model folder (models/churn): one level too deep
        Path parent = root.getParent();
        if (parent != null && isRegistry(parent) && LocalRegistry.open(parent).models().contains(root.getFileName().toString())) {
            return Optional.of(parent);
        }
        // a folder that holds the registry (the project root instead of its models/)
        for (Path child : children(root)) {
            if (isRegistry(child)) {
                return Optional.of(child);
            }
        }
        return Optional.empty();
    }

    private static boolean isRegistry(Path dir) {
        return Files.isDirectory(dir) && !LocalRegistry.open(dir).models().isEmpty();
    }

    private static List<Path> children(Path dir) {
        try (Stream<Path> list = Files.list(dir)) {
            return list.filter(Files::isDirectory).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }
}
