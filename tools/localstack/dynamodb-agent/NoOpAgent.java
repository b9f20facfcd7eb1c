// Stands in for LocalStack's DynamoDB Local agent (ddb-local-loader-0.1.jar), which LocalStack
// passes to `java -javaagent:` and would download: a Java agent that changes nothing. The only
// loss is the real agent's patch that allows more than 20 global secondary indexes.
import java.lang.instrument.Instrumentation;

public final class NoOpAgent {
    private NoOpAgent() {}

    public static void premain(String arguments, Instrumentation instrumentation) {}
}
