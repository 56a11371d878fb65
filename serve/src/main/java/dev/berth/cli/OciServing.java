package dev.berth.cli;

import dev.berth.oci.MirrorSource;
import dev.berth.oci.OciMirror;
import dev.berth.registry.InvalidArgumentException;
import dev.berth.registry.LocalRegistry;
import dev.berth.server.Durations;
import io.helidon.config.Config;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;

/**
 * {@code berth serve --models oci://...}: mirrors the repositories into a cache folder before the
 * server starts on it, says what it serves from where, then polls the tags.
 */
final class OciServing {
    /** Default time between two reads of the tags. */
    static final Duration DEFAULT_POLL = Duration.ofSeconds(30);

    private OciServing() {
    }

    /** The cache folder: {@code cache} from settings, else {@code $XDG_CACHE_HOME/berth/oci}, else {@code ~/.cache/berth/oci}. */
    static Path cacheDir(Config settings) {
        return settings.get("cache").asString().map(Path::of).orElseGet(() -> {
            String xdg = System.getenv("XDG_CACHE_HOME");
            Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
            return base.resolve("berth").resolve("oci");
        });
    }

    /** Parses the sources, syncs once (a registry that is down leaves the cache as it is, and this says so) and starts polling. */
    static OciMirror start(String models, Config settings, RegistryOptions registryOptions, PrintWriter out) {
        List<MirrorSource> sources = MirrorSource.parseList(models);
        Duration poll;
        try {
            poll = settings.get("poll-interval").asString().map(v -> Durations.parse("poll-interval", v)).orElse(DEFAULT_POLL);
        } catch (IllegalArgumentException e) {
            throw new InvalidArgumentException(e.getMessage());
        }
        Path cache = cacheDir(settings);
        OciMirror mirror = OciMirror.create(sources, cache, registryOptions::client, poll);
        for (OciMirror.SourceState s : mirror.sync()) {
            if (s.reached()) {
                out.println("berth: " + s.source() + ": " + (s.model().isEmpty() ? "no versions" : s.model() + " versions " + s.present())
                        + (s.pulled().isEmpty() ? " (all cached)" : " (pulled " + s.pulled() + ")"));
            } else {
                out.println("berth: " + s.source() + " cannot be read (" + s.error() + "); serving the cached copy in " + cache
                        + cachedModels(mirror));
            }
        }
        out.flush();
        mirror.start();
        return mirror;
    }

    private static String cachedModels(OciMirror mirror) {
        LocalRegistry cached = LocalRegistry.open(mirror.modelsRoot());
        List<String> names = cached.models();
        if (names.isEmpty()) {
            return " (empty: nothing to serve until the registry answers)";
        }
        return ": " + names.stream().map(n -> n + " " + cached.versions(n)).collect(Collectors.joining(", "));
    }
}
