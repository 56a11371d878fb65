/*
 * Trains churn version 2 for the example registry: an L2-regularised logistic regression on the
 * same processed customer table and the same train/validation split as the sample's PyTorch MLP,
 * exported as ONNX (opset 17) with the same signature, and evaluated by ONNX Runtime itself.
 *
 * Run (from the repository root, after a build so the ONNX Runtime jar is in packager/target/lib):
 *   java -cp packager/target/lib/onnxruntime-1.23.2.jar examples/churn-logistic/TrainChurnLogistic.java \
 *        ../shared/samples/churn /tmp/churn-logistic
 *
 * Writes model.onnx, metrics.json, hyperparameters.json, training_log.txt, requirements.txt,
 * lineage.json, confusion_matrix.png, and copies split.json and example_request.json from the sample.
 * Deterministic: the same inputs give the same model bytes.
 */

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class TrainChurnLogistic {
    static final String[] FEATURES = {"tenure_months", "monthly_charges", "total_charges", "contract_months",
            "support_calls", "paperless_billing", "senior_citizen", "fiber_optic"};
    static final double LEARNING_RATE = 0.5;
    static final int EPOCHS = 400;
    static final double L2 = 1e-3;

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: TrainChurnLogistic SAMPLE_CHURN_DIR OUT_DIR");
            System.exit(2);
        }
        Path sample = Path.of(args[0]);
        Path out = Path.of(args[1]);
        Files.createDirectories(out);
        Locale.setDefault(Locale.ROOT);

        // --- data and split (the sample's own validation rows) ---
        List<String> lines = Files.readAllLines(sample.resolve("data/processed_customer_data.csv"));
        int n = lines.size() - 1;
        int d = FEATURES.length;
        float[][] x = new float[n][d];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            String[] cells = lines.get(i + 1).split(",");
            for (int j = 0; j < d; j++) {
                x[i][j] = Float.parseFloat(cells[j]);
            }
            y[i] = Integer.parseInt(cells[d].trim());
        }
        String split = Files.readString(sample.resolve("split.json"));
        Matcher m = Pattern.compile("\"validation_index\"\\s*:\\s*\\[([^]]*)]").matcher(split);
        if (!m.find()) {
            throw new IllegalStateException("split.json has no validation_index");
        }
        Set<Integer> validation = new HashSet<>();
        for (String s : m.group(1).split(",")) {
            validation.add(Integer.parseInt(s.trim()));
        }
        int[] train = java.util.stream.IntStream.range(0, n).filter(i -> !validation.contains(i)).toArray();
        int[] valid = java.util.stream.IntStream.range(0, n).filter(validation::contains).toArray();

        // --- standardisation from the training rows only (it goes into the graph) ---
        float[] mean = new float[d];
        float[] std = new float[d];
        for (int j = 0; j < d; j++) {
            double s = 0;
            for (int i : train) s += x[i][j];
            double mu = s / train.length;
            double v = 0;
            for (int i : train) v += (x[i][j] - mu) * (x[i][j] - mu);
            mean[j] = (float) mu;
            std[j] = (float) (Math.sqrt(v / train.length) + 1e-6);
        }

        // --- full-batch gradient descent on the log loss with L2 ---
        double[] w = new double[d];
        double b = 0;
        List<String> log = new ArrayList<>();
        log.add("model=churn algorithm=logistic_regression rows_train=" + train.length + " rows_validation=" + valid.length
                + " features=" + Arrays.toString(FEATURES));
        long t0 = System.nanoTime();
        for (int epoch = 1; epoch <= EPOCHS; epoch++) {
            double[] gw = new double[d];
            double gb = 0;
            double loss = 0;
            for (int i : train) {
                double z = b;
                for (int j = 0; j < d; j++) z += w[j] * ((x[i][j] - mean[j]) / std[j]);
                double p = 1 / (1 + Math.exp(-z));
                loss += -(y[i] == 1 ? Math.log(Math.max(p, 1e-12)) : Math.log(Math.max(1 - p, 1e-12)));
                double g = p - y[i];
                for (int j = 0; j < d; j++) gw[j] += g * ((x[i][j] - mean[j]) / std[j]);
                gb += g;
            }
            for (int j = 0; j < d; j++) {
                w[j] -= LEARNING_RATE * (gw[j] / train.length + L2 * w[j]);
            }
            b -= LEARNING_RATE * gb / train.length;
            if (epoch == 1 || epoch % 20 == 0) {
                log.add(String.format("epoch=%d loss=%.5f", epoch, loss / train.length));
            }
        }
        log.add(String.format("train_seconds=%.1f", (System.nanoTime() - t0) / 1e9));

        // --- export: two-class softmax over logits [0, z] equals the logistic sigmoid ---
        float[] weights = new float[d * 2];
        for (int j = 0; j < d; j++) {
            weights[j * 2] = 0f;
            weights[j * 2 + 1] = (float) w[j];
        }
        byte[] onnx = Onnx.model(mean, std, weights, new float[] {0f, (float) b});
        Path modelFile = out.resolve("model.onnx");
        Files.write(modelFile, onnx);

        // --- evaluate the exported model with ONNX Runtime, on the validation rows ---
        float[][] xv = new float[valid.length][];
        int[] yv = new int[valid.length];
        for (int k = 0; k < valid.length; k++) {
            xv[k] = x[valid[k]];
            yv[k] = y[valid[k]];
        }
        float[][] probs;
        long[] pred;
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession session = env.createSession(modelFile.toString(), new OrtSession.SessionOptions());
             OnnxTensor input = OnnxTensor.createTensor(env, xv);
             OrtSession.Result result = session.run(Map.of("features", input))) {
            probs = (float[][]) result.get("probabilities").orElseThrow().getValue();
            pred = (long[]) result.get("label").orElseThrow().getValue();
        }
        int[][] cm = new int[2][2];
        for (int k = 0; k < yv.length; k++) cm[yv[k]][(int) pred[k]]++;
        double acc = (cm[0][0] + cm[1][1]) / (double) yv.length;
        double p0 = ratio(cm[0][0], cm[0][0] + cm[1][0]);
        double p1 = ratio(cm[1][1], cm[1][1] + cm[0][1]);
        double r0 = ratio(cm[0][0], cm[0][0] + cm[0][1]);
        double r1 = ratio(cm[1][1], cm[1][1] + cm[1][0]);
        double f0 = p0 + r0 == 0 ? 0 : 2 * p0 * r0 / (p0 + r0);
        double f1 = p1 + r1 == 0 ? 0 : 2 * p1 * r1 / (p1 + r1);
        double[] score = new double[yv.length];
        for (int k = 0; k < yv.length; k++) score[k] = probs[k][1];
        double auc = rocAuc(score, yv);

        String metrics = "{\n"
                + "  \"accuracy\": " + r4(acc) + ",\n"
                + "  \"precision_macro\": " + r4((p0 + p1) / 2) + ",\n"
                + "  \"recall_macro\": " + r4((r0 + r1) / 2) + ",\n"
                + "  \"f1_macro\": " + r4((f0 + f1) / 2) + ",\n"
                + "  \"roc_auc\": " + r4(auc) + ",\n"
                + "  \"confusion_matrix\": {\"labels\": [\"stays\", \"churns\"], \"matrix\": [[" + cm[0][0] + ", " + cm[0][1]
                + "], [" + cm[1][0] + ", " + cm[1][1] + "]]},\n"
                + "  \"validation_rows\": " + yv.length + "\n}\n";
        Files.writeString(out.resolve("metrics.json"), metrics);
        Files.writeString(out.resolve("hyperparameters.json"), "{\n  \"algorithm\": \"logistic_regression\",\n"
                + "  \"optimizer\": \"full_batch_gradient_descent\",\n  \"learning_rate\": " + LEARNING_RATE + ",\n"
                + "  \"epochs\": " + EPOCHS + ",\n  \"l2\": " + L2 + ",\n  \"standardize\": true\n}\n");
        Files.writeString(out.resolve("training_log.txt"), String.join("\n", log) + "\n");
        Files.writeString(out.resolve("requirements.txt"), "# trained and evaluated on the JVM\n"
                + "java==" + Runtime.version().feature() + "\n"
                + "com.microsoft.onnxruntime:onnxruntime==" + env.getVersion() + "\n");
        Files.copy(sample.resolve("split.json"), out.resolve("split.json"), StandardCopyOption.REPLACE_EXISTING);
        Files.copy(sample.resolve("example_request.json"), out.resolve("example_request.json"), StandardCopyOption.REPLACE_EXISTING);
        confusionPng(cm, out.resolve("confusion_matrix.png"));

        // run from the repository root, as documented, so this file is where the lineage says
        String codeSha = sha256(Path.of("examples/churn-logistic/TrainChurnLogistic.java"));
        String columns = String.join("\", \"", FEATURES);
        Files.writeString(out.resolve("lineage.json"), "{\n"
                + "  \"model\": \"churn\",\n"
                + "  \"data\": {\n"
                + "    \"data/customer_data.csv\": \"" + sha256(sample.resolve("data/customer_data.csv")) + "\",\n"
                + "    \"data/processed_customer_data.csv\": \"" + sha256(sample.resolve("data/processed_customer_data.csv")) + "\"\n"
                + "  },\n"
                + "  \"split\": {\"file\": \"split.json\", \"sha256\": \"" + sha256(sample.resolve("split.json")) + "\"},\n"
                + "  \"code\": {\"file\": \"TrainChurnLogistic.java\", \"sha256\": \"" + codeSha + "\"},\n"
                + "  \"signature\": {\n"
                + "    \"inputs\": [{\"name\": \"features\", \"datatype\": \"FP32\", \"shape\": [-1, 8], \"columns\": [\"" + columns + "\"]}],\n"
                + "    \"outputs\": [{\"name\": \"probabilities\", \"datatype\": \"FP32\", \"shape\": [-1, 2], \"classes\": [\"stays\", \"churns\"]},\n"
                + "                {\"name\": \"label\", \"datatype\": \"INT64\", \"shape\": [-1]}]\n"
                + "  },\n"
                + "  \"java\": \"" + Runtime.version() + "\"\n}\n");
        System.out.printf("validation accuracy %.4f, roc_auc %.4f, written to %s%n", acc, auc, out);
    }

    static double ratio(int a, int b) {
        return b == 0 ? 0 : a / (double) b;
    }

    static String r4(double v) {
        return new java.math.BigDecimal(v).setScale(4, java.math.RoundingMode.HALF_EVEN).stripTrailingZeros().toPlainString();
    }

    /** Area under the ROC curve as the probability that a positive outscores a negative (ties count half). */
    static double rocAuc(double[] score, int[] label) {
        double wins = 0;
        long pairs = 0;
        for (int i = 0; i < score.length; i++) {
            if (label[i] != 1) continue;
            for (int j = 0; j < score.length; j++) {
                if (label[j] != 0) continue;
                pairs++;
                wins += score[i] > score[j] ? 1 : score[i] == score[j] ? 0.5 : 0;
            }
        }
        return wins / pairs;
    }

    static String sha256(Path p) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
    }

    static void confusionPng(int[][] cm, Path file) throws IOException {
        System.setProperty("java.awt.headless", "true");
        int cell = 90;
        int left = 80;
        int top = 40;
        BufferedImage img = new BufferedImage(left + 2 * cell + 20, top + 2 * cell + 50, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, img.getWidth(), img.getHeight());
        int max = Math.max(Math.max(cm[0][0], cm[0][1]), Math.max(cm[1][0], cm[1][1]));
        String[] labels = {"stays", "churns"};
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < 2; j++) {
                float shade = cm[i][j] / (float) max;
                g.setColor(new Color(1 - 0.8f * shade, 1 - 0.6f * shade, 1 - 0.2f * shade));
                g.fillRect(left + j * cell, top + i * cell, cell, cell);
                g.setColor(shade > 0.5 ? Color.WHITE : Color.BLACK);
                g.drawString(Integer.toString(cm[i][j]), left + j * cell + cell / 2 - 10, top + i * cell + cell / 2 + 5);
            }
            g.setColor(Color.BLACK);
            g.drawString(labels[i], 10, top + i * cell + cell / 2 + 5);
            g.drawString(labels[i], left + i * cell + 25, top + 2 * cell + 20);
        }
        g.drawString("churn v2 (logistic regression): validation", 10, 20);
        g.drawString("predicted", left + cell - 30, top + 2 * cell + 40);
        g.dispose();
        javax.imageio.ImageIO.write(img, "png", file.toFile());
    }

    /**
     * Just enough of the ONNX protobuf encoding for one small graph. Field numbers are those of
     * onnx.proto (ModelProto, GraphProto, NodeProto, TensorProto, ValueInfoProto, TypeProto).
     */
    static final class Onnx {
        static final int FLOAT = 1;
        static final int INT64 = 7;

        static byte[] model(float[] mean, float[] std, float[] weights, float[] bias) {
            Msg graph = new Msg()
                    .msg(1, node("Sub", List.of("features", "mean"), "centered", null))
                    .msg(1, node("Div", List.of("centered", "std"), "z", null))
                    .msg(1, node("MatMul", List.of("z", "weights"), "linear", null))
                    .msg(1, node("Add", List.of("linear", "bias"), "logits", null))
                    .msg(1, node("Softmax", List.of("logits"), "probabilities", intAttr("axis", 1)))
                    .msg(1, node("ArgMax", List.of("logits"), "label", intAttr("axis", 1), intAttr("keepdims", 0)))
                    .str(2, "churn_logistic_regression")
                    .msg(5, tensor("mean", new long[] {mean.length}, mean))
                    .msg(5, tensor("std", new long[] {std.length}, std))
                    .msg(5, tensor("weights", new long[] {mean.length, 2}, weights))
                    .msg(5, tensor("bias", new long[] {2}, bias))
                    .msg(11, valueInfo("features", FLOAT, "batch", mean.length))
                    .msg(12, valueInfo("probabilities", FLOAT, "batch", 2))
                    .msg(12, valueInfo("label", INT64, "batch", -1));
            return new Msg()
                    .varint(1, 8)                       // ir_version 8 (ONNX 1.12+, opset 17)
                    .str(2, "berth-example")
                    .str(3, "1")
                    .msg(7, graph)
                    .msg(8, new Msg().str(1, "").varint(2, 17))
                    .bytes();
        }

        static Msg node(String op, List<String> inputs, String output, Msg attr, Msg... more) {
            Msg n = new Msg();
            inputs.forEach(i -> n.str(1, i));
            n.str(2, output).str(3, op + "_" + output).str(4, op);
            if (attr != null) n.msg(5, attr);
            for (Msg a : more) n.msg(5, a);
            return n;
        }

        static Msg intAttr(String name, long value) {
            return new Msg().str(1, name).varint(3, value).varint(20, 2); // type INT
        }

        static Msg tensor(String name, long[] dims, float[] values) {
            Msg t = new Msg();
            for (long dim : dims) t.varint(1, dim);
            t.varint(2, FLOAT).str(8, name);
            java.nio.ByteBuffer raw = java.nio.ByteBuffer.allocate(values.length * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            for (float v : values) raw.putFloat(v);
            return t.raw(9, raw.array());
        }

        /** A tensor type with a symbolic first axis and, when {@code width >= 0}, a fixed second axis. */
        static Msg valueInfo(String name, int elemType, String batch, int width) {
            Msg shape = new Msg().msg(1, new Msg().str(2, batch));
            if (width >= 0) shape.msg(1, new Msg().varint(1, width));
            Msg tensorType = new Msg().varint(1, elemType).msg(2, shape);
            return new Msg().str(1, name).msg(2, new Msg().msg(1, tensorType));
        }
    }

    /** A protobuf message being written: varint and length-delimited fields only. */
    static final class Msg {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Msg varint(int field, long value) {
            tag(field, 0);
            writeVarint(value);
            return this;
        }

        Msg str(int field, String value) {
            return raw(field, value.getBytes(StandardCharsets.UTF_8));
        }

        Msg msg(int field, Msg value) {
            return raw(field, value.bytes());
        }

        Msg raw(int field, byte[] value) {
            tag(field, 2);
            writeVarint(value.length);
            out.writeBytes(value);
            return this;
        }

        byte[] bytes() {
            return out.toByteArray();
        }

        private void tag(int field, int wireType) {
            writeVarint(((long) field << 3) | wireType);
        }

        private void writeVarint(long v) {
            while ((v & ~0x7FL) != 0) {
                out.write((int) ((v & 0x7F) | 0x80));
                v >>>= 7;
            }
            out.write((int) v);
        }
    }
}
