package dev.berth.packager;

import com.google.cloud.tools.jib.api.LogEvent;
import com.google.cloud.tools.jib.event.events.ProgressEvent;
import com.google.cloud.tools.jib.event.progress.Allocation;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Jib's allocation tree becomes layers and bytes; blobs the registry already had count as skipped. */
class JibProgressTest {
    private static final String A = "sha256:" + "a".repeat(64);
    private static final String B = "sha256:" + "b".repeat(64);

    @Test
    void countsLayersBytesAndSkippedBlobs() {
        List<PackageProgress> seen = new ArrayList<>();
        List<String> messages = new ArrayList<>();
        JibProgress progress = new JibProgress(new PackageListener() {
            @Override
            public void progress(PackageProgress p) {
                seen.add(p);
            }

            @Override
            public void message(String line) {
                messages.add(line);
            }
        }, true);
        Allocation root = Allocation.newRoot("building images to registry", 2);
        Allocation pushes = root.newChild("launching layer pushers", 2);
        Allocation blobA = pushes.newChild("pushing blob " + A, 1000);
        Allocation blobB = pushes.newChild("pushing blob " + B, 500);

        progress.onLog(LogEvent.info("Skipping push; BLOB already exists on target registry : " + B));
        progress.onProgress(new ProgressEvent(blobB, 500));
        progress.onProgress(new ProgressEvent(blobA, 400));
        PackageProgress mid = seen.get(seen.size() - 1);
        assertEquals(1, mid.layersDone());
        assertEquals(2, mid.layersTotal());
        assertEquals(400, mid.bytesDone(), "a skipped blob sends no bytes");
        assertEquals(1000, mid.bytesTotal());
        assertEquals("pushing", mid.phase());

        progress.onProgress(new ProgressEvent(blobA, 600));
        PackageProgress end = seen.get(seen.size() - 1);
        assertEquals(2, end.layersDone());
        assertEquals(1000, end.bytesDone());
        assertEquals(0.5, end.fraction(), 1e-9, "both blobs of one of the root's two halves are done");
        assertArrayEquals(new long[] {1, 1, 1000}, progress.pushTotals());

        progress.onLog(LogEvent.warn("Cannot verify server at https://127.0.0.1:1/v2/. Attempting again with no TLS verification."));
        progress.onLog(LogEvent.warn("Base image 'x' does not use a specific image digest - build may not be reproducible"));
        assertEquals(List.of("Base image 'x' does not use a specific image digest - build may not be reproducible"), messages,
                "the HTTPS fallback the user asked for with --insecure-registry is not reported");
    }

    @Test
    void errorLinesOfCancelledStepsAreShownOnlyWhenTheBuildSucceeds() {
        List<String> failed = new ArrayList<>();
        JibProgress failing = new JibProgress(lines(failed), false);
        failing.onLog(LogEvent.error("I/O error for image [127.0.0.1:5000/x/churn]:"));
        failing.onLog(LogEvent.warn("Base image 'x' does not use a specific image digest - build may not be reproducible"));
        assertEquals(List.of("Base image 'x' does not use a specific image digest - build may not be reproducible"), failed,
                "a failed build says its one line itself; the cancelled steps' errors would bury it");

        List<String> succeeded = new ArrayList<>();
        JibProgress recovered = new JibProgress(lines(succeeded), false);
        recovered.onLog(LogEvent.error("I/O error for image [127.0.0.1:5000/x/churn]:"));
        assertEquals(List.of(), succeeded);
        recovered.buildSucceeded();
        assertEquals(List.of("I/O error for image [127.0.0.1:5000/x/churn]:"), succeeded, "what Jib recovered from is still shown");
    }

    private static PackageListener lines(List<String> into) {
        return new PackageListener() {
            @Override
            public void progress(PackageProgress p) {
            }

            @Override
            public void message(String line) {
                into.add(line);
            }
        };
    }
}
