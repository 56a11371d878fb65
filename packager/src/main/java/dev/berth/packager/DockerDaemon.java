package dev.berth.packager;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Whether {@code --to docker} can work: a {@code docker} command on the PATH whose daemon answers. */
final class DockerDaemon {
    private DockerDaemon() {
    }

    /**
     * Why {@code --to docker} cannot work here, or null when a daemon answers. Jib would otherwise
     * fail only after building every layer, with the docker command's raw output.
     */
    static String problem() {
        Path docker = findOnPath("docker");
        if (docker == null) {
            return "no 'docker' command on the PATH";
        }
        try {
            Process p = new ProcessBuilder(docker.toString(), "version", "--format", "{{.Server.Version}}")
                    .redirectErrorStream(true).start();
            p.getOutputStream().close();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "'docker version' did not answer within 10 s";
            }
            byte[] out = p.getInputStream().readAllBytes();
            if (p.exitValue() == 0) {
                return null;
            }
            String text = new String(out, StandardCharsets.UTF_8);
            return text.lines().filter(l -> l.contains("daemon") || l.contains("Cannot connect") || l.startsWith("error"))
                    .findFirst().orElse("'docker version' failed").strip();
        } catch (IOException e) {
            return "cannot run docker: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    static Path findOnPath(String command) {
        String path = System.getenv("PATH");
        if (path == null) {
            return null;
        }
        for (String dir : path.split(File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, command);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }
}
