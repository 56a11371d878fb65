package dev.berth.bench;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * The commands {@code bench/run} calls: {@code java -cp benchmarks.jar dev.berth.bench.BenchTool CMD ...}.
 * (The jar's own main is JMH's.)
 */
public final class BenchTool {
    private BenchTool() {
    }

    /** Prints {@code n} distinct ports that were free a moment ago (bound together, then released). */
    private static void freePorts(int n) throws java.io.IOException {
        java.util.List<java.net.ServerSocket> sockets = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
                sockets.add(s);
                System.out.println(s.getLocalPort());
            }
        } finally {
            for (java.net.ServerSocket s : sockets) {
                s.close();
            }
        }
    }

    public static void main(String[] argv) throws Exception {
        if (argv.length == 0) {
            System.err.println("usage: BenchTool large-model FILE | payloads DIR SPEC... | ceiling-server ... | grpc-ceiling-server ... | compute ... | report DIR");
            System.exit(2);
        }
        List<String> args = List.of(argv).subList(1, argv.length);
        try {
            switch (argv[0]) {
                case "large-model" -> BenchModels.writeLarge(Path.of(args.get(0)));
                case "payloads" -> Payloads.main(args);
                case "ceiling-server" -> {
                    CeilingServer.main(args);
                    new CountDownLatch(1).await(); // serve until the script kills us
                }
                case "compute" -> ComputeCeiling.main(args);
                case "grpc-ceiling-server" -> GrpcCeilingServer.main(args);
                case "open-loop" -> OpenLoopLoad.main(args);
                case "report" -> Report.main(args);
                case "free-ports" -> freePorts(Integer.parseInt(args.get(0)));
                default -> {
                    System.err.println("bench: unknown command '" + argv[0] + "'");
                    System.exit(2);
                }
            }
        } catch (IllegalArgumentException | IllegalStateException e) {
            System.err.println("bench: " + e.getMessage());
            System.exit(1);
        }
    }
}
