#!/bin/bash
# java with the broker's classpath; the JVM flags are the test broker's (interview_localinfra):
# SerialGC and C1 only start faster on small machines.
exec java ${KAFKA_HEAP_OPTS:--Xmx512m} -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
  -Djava.awt.headless=true -Dlog4j2.configurationFile=/opt/kafka/config/log4j2.xml \
  -cp '/opt/kafka/libs/*' "$@"
