package dev.berth.cli;

import java.io.PrintWriter;
import java.util.List;

/** Left-aligned text columns, two spaces apart, trailing blanks trimmed. */
final class Table {
    private Table() {
    }

    static void print(PrintWriter out, List<String[]> rows) {
        int columns = rows.stream().mapToInt(r -> r.length).max().orElse(0);
        int[] width = new int[columns];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                width[i] = Math.max(width[i], row[i].length());
            }
        }
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                line.append(i == row.length - 1 ? row[i] : Refs.pad(row[i], width[i] + 2));
            }
            out.println(line.toString().stripTrailing());
        }
    }
}
