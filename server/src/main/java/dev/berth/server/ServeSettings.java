package dev.berth.server;

import io.helidon.common.media.type.MediaTypes;
import io.helidon.config.Config;
import io.helidon.config.ConfigSources;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Layered configuration of {@code berth serve} through Helidon config, all under the {@code berth}
 * node: command-line flags win over environment variables, which win over the YAML file. The keys,
 * their environment variables and flags are those {@link ServeOption} declares.
 */
public final class ServeSettings {
    /** The root node of berth's keys. */
    public static final String ROOT = "berth";

    /** Environment variables and the keys they set; later entries win over earlier ones. */
    private static final Map<String, String> ENV = ServeOption.environment();

    private ServeSettings() {
    }


    /**
     * Builds the configuration.
     *
     * @param yamlFile a YAML file, or null for none
     * @param env      the environment (usually {@link System#getenv()})
     * @param flags    keys (relative to {@code berth}, e.g. {@code port}) given on the command line
     * @return the {@code berth} node
     */
    public static Config load(Path yamlFile, Map<String, String> env, Map<String, String> flags) {
        Map<String, String> fromEnv = new LinkedHashMap<>();
        ENV.forEach((var, key) -> {
            String v = env.get(var);
            if (v != null && !v.isBlank()) {
                fromEnv.put(ROOT + "." + key, v.trim());
            }
        });
        Map<String, String> fromFlags = new LinkedHashMap<>();
        flags.forEach((k, v) -> fromFlags.put(ROOT + "." + k, v));
        Config.Builder b = Config.builder()
                .disableEnvironmentVariablesSource()
                .disableSystemPropertiesSource()
                // Helidon gives earlier sources precedence
                .addSource(ConfigSources.create(fromFlags, "command line"))
                .addSource(ConfigSources.create(fromEnv, "environment"));
        if (yamlFile != null) {
            if (!Files.isRegularFile(yamlFile)) {
                throw new IllegalArgumentException("config file " + yamlFile + " does not exist");
            }
            b.addSource(ConfigSources.file(yamlFile).mediaType(MediaTypes.APPLICATION_X_YAML));
        }
        return b.build().get(ROOT);
    }
}
