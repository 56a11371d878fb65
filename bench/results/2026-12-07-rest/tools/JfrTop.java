import jdk.jfr.consumer.*;
import java.nio.file.*;
import java.util.*;

public class JfrTop {
    public static void main(String[] a) throws Exception {
        String event = a.length > 1 ? a[1] : "jdk.CPUTimeSample";
        int top = a.length > 2 ? Integer.parseInt(a[2]) : 40;
        String focus = a.length > 3 ? a[3] : null;
        Map<String, Integer> self = new HashMap<>(), incl = new HashMap<>(), callers = new HashMap<>(), callees = new HashMap<>();
        int n = 0;
        for (RecordedEvent e : RecordingFile.readAllEvents(Path.of(a[0]))) {
            if (!e.getEventType().getName().equals(event)) continue;
            RecordedStackTrace st = e.getStackTrace();
            if (st == null) continue;
            n++;
            List<RecordedFrame> fr = st.getFrames();
            Set<String> seen = new HashSet<>();
            for (int i = 0; i < fr.size(); i++) {
                RecordedMethod m = fr.get(i).getMethod();
                String k = m.getType().getName() + "." + m.getName();
                if (i == 0) self.merge(k, 1, Integer::sum);
                if (seen.add(k)) incl.merge(k, 1, Integer::sum);
                if (focus != null && k.equals(focus)) {
                    if (i + 1 < fr.size()) { RecordedMethod c = fr.get(i + 1).getMethod(); callers.merge(c.getType().getName() + "." + c.getName() + ":" + fr.get(i + 1).getLineNumber(), 1, Integer::sum); }
                    if (i > 0) { RecordedMethod c = fr.get(i - 1).getMethod(); callees.merge(c.getType().getName() + "." + c.getName(), 1, Integer::sum); }
                }
            }
        }
        System.out.println("samples " + n);
        print("top frames", self, n, top);
        print("inclusive", incl, n, top * 3);
        if (focus != null) { print("callers of " + focus, callers, n, top); print("callees of " + focus, callees, n, top); }
    }
    static void print(String t, Map<String, Integer> m, int n, int top) {
        System.out.println("--- " + t);
        m.entrySet().stream().sorted((x, y) -> y.getValue() - x.getValue()).limit(top)
            .forEach(e -> System.out.printf("%5.1f%% %s%n", 100.0 * e.getValue() / n, e.getKey()));
    }
}
