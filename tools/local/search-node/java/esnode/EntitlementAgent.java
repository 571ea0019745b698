package esnode;

import java.lang.instrument.Instrumentation;

/**
 * The distribution's entitlement agent jar is not published to Maven Central. Elasticsearch
 * attaches this jar to itself (es.entitlement.agentJar) and the agent's only job is to hand the
 * Instrumentation to the entitlement library, exactly like the original agent does.
 */
public final class EntitlementAgent {
    private EntitlementAgent() {}

    public static void agentmain(String agentArgs, Instrumentation inst) throws Exception {
        Class<?> init = Class.forName("org.elasticsearch.entitlement.initialization.EntitlementInitialization");
        init.getMethod("initialize", Instrumentation.class).invoke(null, inst);
    }
}
