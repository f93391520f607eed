#!/bin/bash
KAFKA_HEAP_OPTS=-Xmx128m exec /opt/kafka/bin/run-class.sh org.apache.kafka.tools.TopicCommand "$@"
