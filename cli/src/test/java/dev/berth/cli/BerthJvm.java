package dev.berth.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The command line that runs {@code berth ARGS...} in a fresh JVM on this test's class path. */
final class BerthJvm {
    private BerthJvm() {
    }

    /** {@code java [jvmOptions] -cp CLASSPATH dev.berth.cli.BerthMain args...}, with the JVM running this test. */
    static List<String> command(List<String> jvmOptions, String... args) {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), BerthMain.class.getName()));
        command.addAll(List.of(args));
        return command;
    }

    /** {@link #command(List, String...)} without extra JVM options. */
    static List<String> command(String... args) {
        return command(List.of(), args);
    }
}
