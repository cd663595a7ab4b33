import { Navigate, Route, Routes } from "react-router-dom";
import { AuditPage } from "./audit/audit-page.tsx";
import { SessionProvider, useAuthState } from "./auth/session.tsx";
import { SetupPage } from "./auth/setup-page.tsx";
import { SignInPage } from "./auth/sign-in-page.tsx";
import { CampaignPage } from "./campaigns/campaign-page.tsx";
import { CampaignsPage } from "./campaigns/campaigns-page.tsx";
import { DatasetsPage } from "./datasets/datasets-page.tsx";
import { BlastRadiusPage } from "./impact/blast-radius-page.tsx";
import { IncidentLayout } from "./incidents/incident-layout.tsx";
import { IncidentOverviewPage } from "./incidents/incident-overview-page.tsx";
import { IncidentsPage } from "./incidents/incidents-page.tsx";
import { Shell } from "./layout/shell.tsx";
import { ErrorMessage, Loading } from "./layout/ui.tsx";
import { ObligationsPage } from "./obligations/obligations-page.tsx";
import { QuestionnairePage } from "./questionnaire/questionnaire-page.tsx";
import { ReportsPage } from "./reports/reports-page.tsx";
import { AccountPage } from "./users/account-page.tsx";
import { UsersPage } from "./users/users-page.tsx";
import { VendorPage } from "./vendors/vendor-page.tsx";
import { VendorsPage } from "./vendors/vendors-page.tsx";
import { VerifyPage } from "./verify/verify-page.tsx";

/** Public pages first: they need no session and do not wait for one. Everything else is the staff app. */
export function App() {
  return (
    <Routes>
      <Route path="verify" element={<VerifyPage />} />
      <Route path="questionnaire/:token" element={<QuestionnairePage />} />
      <Route path="*" element={<StaffApp />} />
    </Routes>
  );
}

function StaffApp() {
  const auth = useAuthState();
  switch (auth.state) {
    case "loading":
      return (
        <main className="centered">
          <Loading />
        </main>
      );
    case "error":
      return (
        <main className="centered">
          <ErrorMessage error={new Error(`The server cannot be reached: ${auth.message}`)} />
        </main>
      );
    case "needs_setup":
      return <SetupPage />;
    case "signed_out":
      return <SignInPage />;
    case "signed_in":
      return (
        <SessionProvider me={auth.me}>
          <Routes>
            <Route element={<Shell />}>
              <Route index element={<Navigate to="/incidents" replace />} />
              <Route path="incidents" element={<IncidentsPage />} />
              <Route path="incidents/:incidentId" element={<IncidentLayout />}>
                <Route index element={<IncidentOverviewPage />} />
                <Route path="datasets" element={<DatasetsPage />} />
                <Route path="blast-radius" element={<BlastRadiusPage />} />
                <Route path="obligations" element={<ObligationsPage />} />
                <Route path="campaigns" element={<CampaignsPage />} />
                <Route path="campaigns/:campaignId" element={<CampaignPage />} />
                <Route path="reports" element={<ReportsPage />} />
              </Route>
              <Route path="vendors" element={<VendorsPage />} />
              <Route path="vendors/:vendorId" element={<VendorPage />} />
              <Route path="users" element={<UsersPage />} />
              <Route path="account" element={<AccountPage />} />
              <Route path="audit" element={<AuditPage />} />
              <Route path="*" element={<NotFound />} />
            </Route>
          </Routes>
        </SessionProvider>
      );
  }
}

function NotFound() {
  return (
    <section>
      <h1>Not found</h1>
      <p>There is no page at this address.</p>
    </section>
  );
}
