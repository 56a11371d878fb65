package dev.berth.monitoring;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Resident set size of the process (Linux {@code /proc/self/status}), which Micrometer's JVM binders do
 * not report and which the memory target of a serving process is stated in. Absent where /proc is.
 */
final class ProcessMemoryBinder implements MeterBinder {
    private static final Path STATUS = Path.of("/proc/self/status");

    @Override
    public void bindTo(MeterRegistry registry) {
        if (!Files.isReadable(STATUS)) {
            return;
        }
        Gauge.builder("process.resident.memory", ProcessMemoryBinder::residentBytes)
                .description("Resident set size of the process")
                .baseUnit("bytes")
                .register(registry);
    }

    static double residentBytes() {
        try {
            for (String line : Files.readAllLines(STATUS)) {
                if (line.startsWith("VmRSS:")) {
                    String[] parts = line.substring(6).trim().split("\\s+");
                    return Long.parseLong(parts[0]) * 1024.0;
                }
            }
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
        return Double.NaN;
    }
}
