package dev.berth.runtime.onnx;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A JVM that loads ONNX Runtime through {@link OrtNatives} and prints where the natives came
 * from; run as a child process by {@link OrtNativesTest}. With an argument it first waits until
 * that file exists, so several children start loading at the same moment.
 */
public final class OrtNativesProbe {
    private OrtNativesProbe() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0) {
            Path go = Path.of(args[0]);
            while (!Files.exists(go)) {
                Thread.sleep(1);
            }
        }
        String version = OrtNatives.environment().getVersion();
        System.out.println("version=" + version);
        System.out.println("path=" + System.getProperty(OrtNatives.NATIVE_PATH));
    }
}
