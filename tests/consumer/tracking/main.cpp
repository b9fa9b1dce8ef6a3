// SPDX-License-Identifier: Apache-2.0
// Downstream consumer: logs one small run to $MLFLOW_TRACKING_URI and prints its id.
#include <iostream>
#include <string>

#include "mlflow/client.h"
#include "mlflow/options.h"
#include "mlflow/run.h"
#include "mlflow/status.h"

int main(int argc, char** argv) {
  const std::string experiment = argc > 1 ? argv[1] : "mlflow-cpp-consumer";
  auto options = mlflow::ClientOptions::from_env();
  if (!options.ok()) {
    std::cerr << "consumer: " << options.status().to_string() << "\n";
    return 1;
  }
  auto client = mlflow::MlflowClient::make(*options);
  if (!client.ok()) {
    std::cerr << "consumer: " << client.status().to_string() << "\n";
    return 1;
  }
  mlflow::RunOptions run_options;
  run_options.experiment_name = experiment;
  run_options.run_name = "consumer";
  auto run = mlflow::ActiveRun::start(*client, run_options);
  if (!run.ok()) {
    std::cerr << "consumer: starting the run: " << run.status().to_string() << "\n";
    return 1;
  }
  for (const mlflow::Status& st :
       {run->log_params({{"learning_rate", "0.01"}, {"epochs", "3"}}),
        run->log_metric("loss", 0.125, 2), run->set_tag("consumer", "find_package"),
        run->end(mlflow::RunStatus::kFinished)}) {
    if (!st.ok()) {
      std::cerr << "consumer: " << st.to_string() << "\n";
      return 1;
    }
  }
  std::cout << run->id() << "\n";
  return 0;
}
