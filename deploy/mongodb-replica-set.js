// Run by compose's mongodb-init job against mongodb-1: initiates the three-member replica set the first time (a
// no-op after), then waits until it has a primary, so the services start against a writable database.
const members = [
  {_id: 0, host: "mongodb-1:27017"},
  {_id: 1, host: "mongodb-2:27017"},
  {_id: 2, host: "mongodb-3:27017"},
];
try {
  rs.status();
} catch (notYetInitiated) {
  rs.initiate({_id: "rs0", members});
}
for (let waited = 0; !db.hello().primary; waited++) {
  if (waited > 120) throw new Error("the replica set elected no primary within two minutes");
  sleep(1000);
}
print(`replica set rs0 has a primary: ${db.hello().primary}`);
