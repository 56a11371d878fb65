package dev.berth.cli;

import dev.berth.runtime.onnx.OrtNatives;
import picocli.CommandLine;

import java.util.LinkedHashMap;
import java.util.Map;

/** Facts about the running berth recorded with each registration (the manifest's dependencies.runtime). */
final class RuntimeFacts {
    private RuntimeFacts() {
    }

    static String berthVersion() {
        String v = RuntimeFacts.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    /** berth, Java and ONNX Runtime versions; asks ONNX Runtime itself, so this loads its native library. */
    static Map<String, String> current() {
        Map<String, String> facts = new LinkedHashMap<>();
        facts.put("berth", berthVersion());
        facts.put("java", Runtime.version().toString());
        facts.put("onnxruntime", OrtNatives.environment().getVersion());
        return facts;
    }

    /** {@code berth --version}. */
    static final class VersionProvider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"berth " + berthVersion() + " (Java " + Runtime.version() + ")"};
        }
    }
}
