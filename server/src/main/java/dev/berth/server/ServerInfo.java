package dev.berth.server;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Properties;

/**
 * What server metadata reports: name, version and supported protocol extensions.
 *
 * @param name       always {@value #NAME}
 * @param version    berth's version
 * @param extensions extension names as Triton spells them
 */
public record ServerInfo(String name, String version, List<String> extensions) {
    public static final String NAME = "berth";
    /** Extensions both front ends implement. */
    public static final List<String> BUILT_IN_EXTENSIONS = List.of("binary_tensor_data", "model_repository", "parameters");

    public ServerInfo {
        extensions = List.copyOf(extensions);
    }

    /** berth's version from the build, "unknown" when run from classes without the resource. */
    public static String berthVersion() {
        try (InputStream in = ServerInfo.class.getResourceAsStream("version.properties")) {
            if (in == null) {
                return "unknown";
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }
}
