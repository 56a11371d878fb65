package dev.berth.cli;

public final class BerthMain {
    public static void main(String[] args) {
        System.out.println("berth");
    }
}
