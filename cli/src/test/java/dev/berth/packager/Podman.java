package dev.berth.packager;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * podman for tests, isolated from the machine's own configuration: storage, run state, events
 * and temporary files under one temporary folder; runc with cgroupfs (crun fails on this host's
 * hybrid cgroups); host networking; ulimits within the machine's hard limits; and the loopback
 * registries marked insecure. {@link #close()} removes containers, images and the folder.
 */
final class Podman implements AutoCloseable {
    private final Path dir;
    private final Map<String, String> env;

    private Podman(Path dir, Map<String, String> env) {
        this.dir = dir;
        this.env = env;
    }

    static Podman start(List<String> insecureRegistries) {
        try {
            Path dir = Files.createTempDirectory("berth-podman-");
            String nofile = Cmd.run("sh", "-c", "ulimit -Hn").trim();
            if (nofile.equals("unlimited")) {
                nofile = "1048576";
            }
            Files.writeString(dir.resolve("containers.conf"), """
                    [containers]
                    netns = "host"
                    default_ulimits = ["nofile=%s:%s", "nproc=4096:4096"]
                    [engine]
                    runtime = "runc"
                    cgroup_manager = "cgroupfs"
                    events_logger = "file"
                    events_logfile_path = "%s"
                    tmp_dir = "%s"
                    """.formatted(nofile, nofile, dir.resolve("events.log"), dir.resolve("tmp")));
            Files.writeString(dir.resolve("storage.conf"), """
                    [storage]
                    driver = "overlay"
                    graphroot = "%s"
                    runroot = "%s"
                    """.formatted(dir.resolve("graph"), dir.resolve("run")));
            StringBuilder registries = new StringBuilder("unqualified-search-registries = []\n");
            for (String r : insecureRegistries) {
                registries.append("[[registry]]\nlocation = \"").append(r).append("\"\ninsecure = true\n");
            }
            Files.writeString(dir.resolve("registries.conf"), registries.toString());
            Map<String, String> env = Map.of(
                    "CONTAINERS_CONF", dir.resolve("containers.conf").toString(),
                    "CONTAINERS_STORAGE_CONF", dir.resolve("storage.conf").toString(),
                    "CONTAINERS_REGISTRIES_CONF", dir.resolve("registries.conf").toString(),
                    "TMPDIR", Files.createDirectories(dir.resolve("tmp")).toString());
            return new Podman(dir, env);
        } catch (IOException e) {
            throw new AssertionError("cannot set up podman: " + e.getMessage(), e);
        }
    }

    /** Runs {@code podman ARGS...} and returns stdout; fails the test on a non-zero exit. */
    String run(String... args) {
        List<String> command = new ArrayList<>();
        command.add("podman");
        command.addAll(Arrays.asList(args));
        return Cmd.run(env, Duration.ofMinutes(4), command.toArray(String[]::new));
    }

    Cmd.Result exec(String... args) {
        List<String> command = new ArrayList<>();
        command.add("podman");
        command.addAll(Arrays.asList(args));
        return Cmd.exec(env, Duration.ofMinutes(4), command);
    }

    Map<String, String> env() {
        return env;
    }

    @Override
    public void close() {
        exec("rm", "--all", "--force", "--time", "2");
        exec("system", "reset", "--force");
        Cmd.exec(Map.of(), Duration.ofMinutes(1), List.of("umount", "-R", dir.resolve("graph").toString()));
        Cmd.deleteTree(dir);
        removeEmptyRuntimeLeftovers();
    }

    /**
     * podman with cgroupfs leaves {@code libpod_parent} cgroups (with a {@code conmon} child) and
     * runc its state root; both are removed once empty. rmdir refuses a cgroup that still holds
     * processes or children, so a podman running elsewhere is never disturbed.
     */
    private static void removeEmptyRuntimeLeftovers() {
        try (var controllers = Files.list(Path.of("/sys/fs/cgroup"))) {
            for (Path controller : controllers.toList()) {
                Path parent = controller.resolve("libpod_parent");
                rmdirQuietly(parent.resolve("conmon"));
                rmdirQuietly(parent);
            }
        } catch (IOException e) {
            // no cgroup v1 hierarchy here: nothing was created
        }
        rmdirQuietly(Path.of("/run/runc"));
    }

    private static void rmdirQuietly(Path dir) {
        try {
            if (Files.isDirectory(dir)) {
                Files.delete(dir);
            }
        } catch (IOException e) {
            // not empty (in use) or not ours to remove
        }
    }
}
